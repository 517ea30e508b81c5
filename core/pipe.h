/* pipe.h - shared-memory pipe queues (demi_create_pipe / demi_open_pipe). */
#ifndef SLUICE_PIPE_H
#define SLUICE_PIPE_H

/* Creates the pipe named name and opens its creator end: the descriptor,
 * or -EINVAL (bad name), -EEXIST (name taken), -EMFILE, -ENOMEM, -errno. */
int pipe_create(const char *name);

/* Opens the other end: the descriptor, or -EINVAL, -ENOENT (no such pipe),
 * -EBUSY (other end already open), -EPROTO (not a Sluice pipe), -EMFILE. */
int pipe_open(const char *name);

#endif
