/* native_pipe.c - a native Demikernel program that needs only
 * `cc native_pipe.c $(pkg-config --cflags --libs sluice)`: it sends a
 * message through a shared-memory pipe to itself and checks it. */
#include <demi/libos.h>
#include <demi/sga.h>
#include <demi/wait.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    char name[64];
    int tx, rx;
    demi_qtoken_t qt;
    demi_qresult_t qr;

    snprintf(name, sizeof(name), "native-%d", (int)getpid());
    if (demi_init(NULL) || demi_create_pipe(&tx, name) || demi_open_pipe(&rx, name))
        return 1;
    demi_sgarray_t sga = demi_sgaalloc(6);
    memcpy(sga.sga_segs[0].sgaseg_buf, "hello", 6);
    if (demi_push(&qt, tx, &sga) || demi_wait(&qr, qt, NULL) || qr.qr_opcode != DEMI_OPC_PUSH)
        return 2;
    if (demi_pop(&qt, rx) || demi_wait(&qr, qt, NULL) || qr.qr_opcode != DEMI_OPC_POP)
        return 3;
    printf("native_pipe: got '%s'\n", (char *)qr.qr_value.sga.sga_segs[0].sgaseg_buf);
    return strcmp(qr.qr_value.sga.sga_segs[0].sgaseg_buf, "hello") != 0;
}
