/* export.h - marks the functions libsluice.so exports; everything else is hidden. */
#ifndef SLUICE_EXPORT_H
#define SLUICE_EXPORT_H

#define SLUICE_API __attribute__((visibility("default")))

#endif
