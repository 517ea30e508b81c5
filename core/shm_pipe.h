/* shm_pipe.h - duplex byte-stream pipe between two processes over POSIX
 * shared memory (backs demi_create_pipe / demi_open_pipe).
 *
 * The creator writes ring A and reads ring B; the opener writes ring B and
 * reads ring A. Each ring is single-producer single-consumer, so a handle
 * may be written from one thread while it is read from another, but two
 * threads must not write (or read) the same handle at once.
 *
 * End of stream: call shm_pipe_peer_closed() first and then
 * shm_pipe_readable(); EOF is "peer closed and nothing readable". In the
 * other order a peer could write and close between the two calls and its
 * last bytes would be mistaken for EOF.
 */
#ifndef SLUICE_SHM_PIPE_H
#define SLUICE_SHM_PIPE_H

#include <stdbool.h>
#include <stddef.h>

struct shm_pipe; /* opaque; one per process per end */

/* Longest pipe name in bytes, not counting the terminating NUL. */
#define SHM_PIPE_NAME_MAX 200

/* Smallest and largest ring capacity in bytes (each a power of two). */
#define SHM_PIPE_RING_MIN ((size_t)4096)
#define SHM_PIPE_RING_MAX ((size_t)1 << 30)

/* Creates the pipe `name` and returns its creator end in *out.
 *
 * name: 1..SHM_PIPE_NAME_MAX bytes of [A-Za-z0-9._-]. The shared memory
 *   object is "/sluice-pipe.<name>".
 * ring_bytes: capacity of each direction in bytes, a power of two in
 *   SHM_PIPE_RING_MIN..SHM_PIPE_RING_MAX. The object is ring_bytes * 2 plus
 *   one 4096-byte header page.
 * out: receives a handle owned by the caller; release it with
 *   shm_pipe_close(). Untouched on error.
 *
 * Returns 0, or
 *   -EINVAL  bad name, bad ring_bytes, or out is NULL;
 *   -EEXIST  an object with that name already exists;
 *   -ENOMEM  out of memory for the handle;
 *   -errno   from shm_open, ftruncate or mmap (e.g. -EACCES, -ENOSPC,
 *            -EMFILE); the half-made object is unlinked again. */
int shm_pipe_create(const char *name, size_t ring_bytes,
                    struct shm_pipe **out);

/* Opens the other (opener) end of the pipe `name` and returns it in *out.
 * Only one opener ever succeeds; on success the name is unlinked, so the
 * pipe is private to the two ends and the name may be created again.
 * If the creator is still initialising the object, waits up to ~20 ms
 * for it to finish rather than failing.
 *
 * out: receives a handle owned by the caller; release it with
 *   shm_pipe_close(). Untouched on error.
 *
 * Returns 0, or
 *   -EINVAL  bad name (see shm_pipe_create) or out is NULL;
 *   -ENOENT  no pipe by that name;
 *   -EPROTO  the object is not a Sluice pipe: bad magic, version or ring
 *            size, or its size does not match its header (truncated);
 *   -EBUSY   the opener end was already taken, or the creator closed
 *            before anyone opened it;
 *   -ENOMEM  out of memory for the handle;
 *   -errno   from shm_open, fstat or mmap (e.g. -EACCES, -EMFILE). */
int shm_pipe_open(const char *name, struct shm_pipe **out);

/* Non-blocking. Copies up to len bytes from buf into our outgoing ring.
 * Returns the number of bytes copied: 0 when the ring is full, when len
 * is 0, or when p or buf is NULL. buf stays owned by the caller. */
size_t shm_pipe_write(struct shm_pipe *p, const void *buf, size_t len);

/* Non-blocking. Moves up to len bytes from our incoming ring into buf.
 * Returns the number of bytes copied: 0 when the ring is empty, when len
 * is 0, or when p or buf is NULL. */
size_t shm_pipe_read(struct shm_pipe *p, void *buf, size_t len);

/* Bytes waiting in our incoming ring (0 if p is NULL). */
size_t shm_pipe_readable(const struct shm_pipe *p);

/* Free bytes in our outgoing ring (0 if p is NULL). */
size_t shm_pipe_writable(const struct shm_pipe *p);

/* True once the other end has closed, or its process is gone (so a
 * crashed peer reads as EOF instead of hanging the reader forever).
 * False for a creator whose opener has not arrived yet.
 *
 * The process check (kill(pid, 0) == ESRCH) runs at most once per
 * millisecond, so a crash is noticed within a few ms. Limits: a dead child
 * that its parent has not reaped yet (zombie) still counts as alive, and a
 * recycled pid can hide a crash. Bytes the peer wrote before closing stay
 * readable; see the EOF note at the top. NULL reads as closed. Safe to
 * call from any thread. */
bool shm_pipe_peer_closed(const struct shm_pipe *p);

/* True for the end returned by shm_pipe_create (false for NULL). */
bool shm_pipe_is_creator(const struct shm_pipe *p);

/* Marks our end closed, unmaps the pipe and frees p. A creator whose
 * opener never arrived also unlinks the name (and any later open then
 * fails). Unread bytes are discarded. NULL is a no-op. */
void shm_pipe_close(struct shm_pipe *p);

#endif
