noinst_LIBRARIES += libcore.a
libcore_a_SOURCES = core/core.h core/arena.c core/str.c core/sha256.c core/util.c \
	core/lcache.h core/lcache.c
