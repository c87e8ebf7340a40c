/* SPDX-License-Identifier: Apache-2.0 */
/* The version and revision texporter was built from, for --version and
 * texporter_build_info. Only lib/version.c sees the build's -D values, so
 * a new revision rebuilds one object. */
#ifndef TEXPORTER_VERSION_H
#define TEXPORTER_VERSION_H

extern const char texporter_version[];
extern const char texporter_revision[];

#endif /* TEXPORTER_VERSION_H */
