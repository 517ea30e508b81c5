/* memq.h - in-process FIFO queues (dmtr_queue). */
#ifndef SLUICE_MEMQ_H
#define SLUICE_MEMQ_H

/* Opens an empty FIFO queue: its descriptor, or -EMFILE / -ENOMEM. */
int memq_open(void);

#endif
