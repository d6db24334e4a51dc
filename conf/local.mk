noinst_LIBRARIES += libconf.a
libconf_a_SOURCES = conf/conf.h conf/conf.c
