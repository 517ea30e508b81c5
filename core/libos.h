/* libos.h - shared entry for demi_init and dmtr_init. */
#ifndef SLUICE_LIBOS_H
#define SLUICE_LIBOS_H

/* Loads the config, sets the log level and starts the runtime; eal_argv
 * (not NULL) replaces the configured EAL arguments. 0 or a positive errno:
 * EEXIST when already running, EINVAL for a bad config or EAL argument,
 * EIO when a previous start failed inside DPDK or the EAL does not start,
 * ENOMEM when the mbuf pool cannot be created. */
int libos_init(int eal_argc, char **eal_argv);

/* dmtr_queue: opens an in-process FIFO queue into *qd_out. 0, ENOSYS,
 * EINVAL (NULL), EMFILE or ENOMEM. */
int libos_memq_open(int *qd_out);


#endif
