# texporter: the Alpine package, included by the top-level Makefile after
# scripts/install.mk (VERSION, SOURCE_DATE_EPOCH, DEB_MAINTAINER come from
# there).
#
# `make apk` builds the static tools (`make static`: glibc linked in, so
# they run on Alpine's musl userland), stages `make install` of them with
# Alpine's paths, trades the systemd units for OpenRC scripts and writes
# $(APK_FILE) with scripts/apk/mkapk (apk-tools 2.x format, unsigned).
#
# What must stay true: the package holds no systemd unit and depends on
# nothing but /bin/sh (its scripts run in busybox sh); two builds of one
# commit give the same bytes (times are SOURCE_DATE_EPOCH).
# Tests build into their own places: APK_STAGE, APK_FILE.

APK_RELEASE  ?= 0
APK_ARCH     ?= $(shell uname -m)
APK_PACKAGER ?= $(DEB_MAINTAINER)
APK_STAGE    ?= $(BUILD)/apk
APK_FILE     ?= $(BUILD)/texporter-$(VERSION)-r$(APK_RELEASE).apk
# The project's home page; the package names none unless given.
APK_URL      ?=
APK_COMMIT   := $(shell git rev-parse HEAD 2>/dev/null)

APK_SCRIPTS  := pre-install pre-deinstall post-deinstall post-upgrade
# Examples for systemd only: drop-ins of texporter-read@.service.
APK_SYSTEMD_EXAMPLES := texporter-read-cap-bpf.conf texporter-read-web-config.conf

.PHONY: apk

## apk      build $(BUILD)/texporter-VERSION-rN.apk for Alpine from the static tools
##          (OpenRC scripts, no systemd units; APK_RELEASE=N, default 0)
apk:
	$(MAKE) --no-print-directory static
	rm -rf $(APK_STAGE) $(APK_FILE)
	$(MAKE) -f $(firstword $(MAKEFILE_LIST)) --no-print-directory install \
		BUILD=$(BUILD) BIN_DIR=$(STATIC_BUILD) DESTDIR=$(abspath $(APK_STAGE)) PREFIX=/usr \
		bindir=/usr/bin sbindir=/usr/sbin mandir=/usr/share/man \
		docdir=/usr/share/doc/texporter sysconfdir=/etc unitdir=/lib/systemd/system >/dev/null
	rm -rf $(APK_STAGE)/lib
	rm -f $(addprefix $(APK_STAGE)/usr/share/doc/texporter/examples/,$(APK_SYSTEMD_EXAMPLES))
	strip --strip-unneeded --remove-section=.comment --remove-section=.note \
		$(APK_STAGE)/usr/sbin/texporter-load $(APK_STAGE)/usr/bin/texporter-read
	gzip -9n $(APK_STAGE)/usr/share/man/man8/*.8
	$(INSTALL) -D -m 0644 LICENSE $(APK_STAGE)/usr/share/licenses/texporter/LICENSE
	# /etc/default/texporter keeps the settings of texporter-update-ranges
	# (which reads that file); the loader's are in conf.d.
	scripts/apk/settings scripts/texporter.default > $(APK_STAGE)/etc/default/texporter
	$(INSTALL) -d $(APK_STAGE)/etc/init.d $(APK_STAGE)/etc/conf.d
	for service in texporter-load texporter-read; do \
		$(INSTALL) -m 0755 scripts/apk/$$service.initd $(APK_STAGE)/etc/init.d/$$service && \
		$(INSTALL) -m 0644 scripts/apk/$$service.confd $(APK_STAGE)/etc/conf.d/$$service || exit 1; \
	done
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) scripts/apk/mkapk $(APK_STAGE) $(APK_FILE) \
		--pkgname texporter --pkgver $(VERSION)-r$(APK_RELEASE) \
		--field 'pkgdesc=eBPF network traffic exporter for Prometheus' \
		$(if $(APK_URL),--field url=$(APK_URL)) --field 'packager=$(APK_PACKAGER)' \
		--field arch=$(APK_ARCH) --field license=Apache-2.0 \
		$(if $(APK_COMMIT),--field commit=$(APK_COMMIT)) \
		--depend /bin/sh \
		$(foreach s,$(APK_SCRIPTS),--script $(s)=scripts/apk/texporter.$(s))
	@echo "$(APK_FILE): $$(stat -c %s $(APK_FILE)) bytes"
