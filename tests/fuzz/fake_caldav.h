/*
 * tests/fuzz/fake_caldav.h -- an in-memory struct caldav_store_ops
 * (caldav/caldav_store.h) over the fake store of tests/unit/fakes/, for
 * the fuzz targets.
 *
 * Calendars are the fake store's (fake_store_add_calendar); the index of
 * calendar objects lives here, in malloc'd memory.  It is not part of the
 * fake store's transactions: an index entry whose resource is gone (a
 * rolled-back PUT, a DELETE or MOVE) is skipped when read, as the
 * database's foreign key would have removed it.
 */
#ifndef PARVIS_TESTS_FUZZ_FAKE_CALDAV_H
#define PARVIS_TESTS_FUZZ_FAKE_CALDAV_H

#include "caldav/caldav_store.h"

const struct caldav_store_ops *fake_caldav_ops(void);
/* Forget every index entry (with fake_store_reset()). */
void fake_caldav_reset(void);
/* Number of object_index calls since the last reset. */
unsigned long fake_caldav_writes(void);

#endif
