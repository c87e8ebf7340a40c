// SPDX-License-Identifier: Apache-2.0
#include "version.h"

/* The Makefile passes both; a bare compiler run still builds. */
#ifndef TEXPORTER_VERSION
#define TEXPORTER_VERSION "unknown"
#endif
#ifndef TEXPORTER_REVISION
#define TEXPORTER_REVISION "unknown"
#endif

const char texporter_version[] = TEXPORTER_VERSION;
const char texporter_revision[] = TEXPORTER_REVISION;
