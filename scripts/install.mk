# texporter: install, uninstall and the Debian package.
#
# Included by the top-level Makefile; also usable alone:
#   make -f scripts/install.mk install DESTDIR=/tmp/stage PREFIX=/usr
# The binaries come from $(BIN_DIR) (texporter-load, texporter-read): by
# default $(BUILD); with STATIC=1 the statically linked ones of `make
# static`, whose licences/ (the copyright files of the libraries linked
# into them) go into $(docdir)/licenses.
# Paths follow the GNU conventions; DESTDIR stages an install elsewhere.

VERSION    ?= $(shell cat VERSION)
BUILD      ?= build
BIN_DIR    ?= $(BUILD)
PREFIX     ?= /usr/local
DESTDIR    ?=
bindir     ?= $(PREFIX)/bin
sbindir    ?= $(PREFIX)/sbin
datadir    ?= $(PREFIX)/share
mandir     ?= $(datadir)/man
docdir     ?= $(datadir)/doc/texporter
sysconfdir ?= /etc
unitdir    ?= /lib/systemd/system
INSTALL    ?= install

TEXPORTER_BINS     := $(BIN_DIR)/texporter-load $(BIN_DIR)/texporter-read
TEXPORTER_UNITS    := $(addprefix systemd/,texporter-load@.service texporter-read.socket \
			texporter-read@.service texporter-textfile.service texporter-textfile.timer)
TEXPORTER_MANS     := $(addprefix docs/,texporter-load.8 texporter-read.8 texporter-update-ranges.8)
TEXPORTER_DOCS     := $(addprefix docs/,architecture.md deployment.md prometheus.md \
			grafana-dashboard.json)
TEXPORTER_EXAMPLES := $(addprefix scripts/,inetd.conf texporter-read.xinetd texporter.cron \
			web-config.yml) \
		      systemd/texporter-read-cap-bpf.conf systemd/texporter-read-web-config.conf
# source:installed path (below sysconfdir) of each config file
TEXPORTER_CONFIGS  := scripts/config.default.json:texporter/config.json \
		      scripts/config.default.json:texporter/static.json \
		      scripts/texporter.default:default/texporter

# The units, examples and the updater name the paths of a Debian install;
# this rewrites them to the paths of this one.
texporter_paths = sed -e 's|/usr/sbin/texporter-|$(sbindir)/texporter-|g' \
		      -e 's|/usr/bin/texporter-|$(bindir)/texporter-|g' \
		      -e 's|/etc/texporter|$(sysconfdir)/texporter|g' \
		      -e 's|/etc/default/texporter|$(sysconfdir)/default/texporter|g' \
		      -e 's|/usr/share/doc/texporter|$(docdir)|g'
# $(call texporter_install_paths,FILES,DIR,MODE): FILES, rewritten, into DIR
texporter_install_paths = for f in $(1); do \
		dst=$(2)/$$(basename $$f); \
		$(texporter_paths) $$f > $$dst && chmod $(3) $$dst || exit 1; \
	done

.PHONY: install uninstall deb lintian

## install  install binaries, units, man pages, scripts, docs and a default
##          config that never replaces an existing one (PREFIX, DESTDIR, ...)
install: $(TEXPORTER_BINS)
	$(INSTALL) -d $(DESTDIR)$(sbindir) $(DESTDIR)$(bindir) $(DESTDIR)$(unitdir) \
		$(DESTDIR)$(mandir)/man8 $(DESTDIR)$(docdir)/examples \
		$(DESTDIR)$(sysconfdir)/texporter $(DESTDIR)$(sysconfdir)/default
	$(INSTALL) -m 0755 $(BIN_DIR)/texporter-load $(DESTDIR)$(sbindir)/texporter-load
	$(INSTALL) -m 0755 $(BIN_DIR)/texporter-read $(DESTDIR)$(bindir)/texporter-read
	if [ -f $(BIN_DIR)/licenses/packages ]; then \
		rm -rf $(DESTDIR)$(docdir)/licenses && \
		cp -R $(BIN_DIR)/licenses $(DESTDIR)$(docdir)/licenses && \
		chmod -R u=rwX,go=rX $(DESTDIR)$(docdir)/licenses; \
	fi
	$(call texporter_install_paths,scripts/texporter-update-ranges,$(DESTDIR)$(sbindir),0755)
	$(call texporter_install_paths,$(TEXPORTER_UNITS),$(DESTDIR)$(unitdir),0644)
	# The original texporter's unit name: systemctl enable texporter@eth0.
	ln -sf texporter-load@.service $(DESTDIR)$(unitdir)/texporter@.service
	$(call texporter_install_paths,$(TEXPORTER_EXAMPLES),$(DESTDIR)$(docdir)/examples,0644)
	$(INSTALL) -m 0644 $(TEXPORTER_MANS) $(DESTDIR)$(mandir)/man8/
	$(INSTALL) -m 0644 $(TEXPORTER_DOCS) $(DESTDIR)$(docdir)/
	for pair in $(TEXPORTER_CONFIGS); do \
		dst=$(DESTDIR)$(sysconfdir)/$${pair#*:}; \
		if [ -e $$dst ]; then echo "keeping $$dst"; \
		else $(INSTALL) -m 0644 $${pair%%:*} $$dst || exit 1; fi; \
	done

## uninstall remove what install put in place; config files only while they
##          are unchanged from the defaults
uninstall:
	rm -f $(DESTDIR)$(sbindir)/texporter-load $(DESTDIR)$(sbindir)/texporter-update-ranges \
		$(DESTDIR)$(bindir)/texporter-read \
		$(addprefix $(DESTDIR)$(unitdir)/,$(notdir $(TEXPORTER_UNITS))) \
		$(DESTDIR)$(unitdir)/texporter@.service \
		$(addprefix $(DESTDIR)$(mandir)/man8/,$(notdir $(TEXPORTER_MANS))) \
		$(addprefix $(DESTDIR)$(docdir)/,$(notdir $(TEXPORTER_DOCS))) \
		$(addprefix $(DESTDIR)$(docdir)/examples/,$(notdir $(TEXPORTER_EXAMPLES)))
	rm -rf $(DESTDIR)$(docdir)/licenses
	rmdir $(DESTDIR)$(docdir)/examples $(DESTDIR)$(docdir) 2>/dev/null || :
	for pair in $(TEXPORTER_CONFIGS); do \
		dst=$(DESTDIR)$(sysconfdir)/$${pair#*:}; \
		if cmp -s $${pair%%:*} $$dst; then rm -f $$dst; \
		elif [ -e $$dst ]; then echo "keeping changed $$dst"; fi; \
	done
	rmdir $(DESTDIR)$(sysconfdir)/texporter 2>/dev/null || :

DEB_ARCH       ?= $(shell dpkg --print-architecture)
DEB_VERSION    ?= $(VERSION)
# Who built the package, as dch(1) finds it: DEBFULLNAME and DEBEMAIL, else git's user.
DEB_MAINTAINER ?= $(or $(DEBFULLNAME),$(shell git config user.name),texporter developers) \
		  <$(or $(DEBEMAIL),$(shell git config user.email),texporter@example.org)>
DEB_STAGE      := $(BUILD)/deb
DEB_FILE        = $(BUILD)/texporter_$(DEB_VERSION)_$(DEB_ARCH).deb
# Dates in the package (changelog, file times) are the last commit's, so
# two builds of one commit give the same package.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || date +%s)
DEB_DATE       ?= $(shell date -R -d @$(SOURCE_DATE_EPOCH))

## deb      build $(BUILD)/texporter_VERSION_ARCH.deb from the binaries in $(BIN_DIR)
##          (STATIC=1: the static ones, with no shared-library dependency)
deb: $(TEXPORTER_BINS)
	rm -rf $(DEB_STAGE) $(DEB_STAGE).shlibs $(DEB_FILE)
	$(MAKE) -f $(firstword $(MAKEFILE_LIST)) --no-print-directory install \
		BUILD=$(BUILD) BIN_DIR=$(BIN_DIR) DESTDIR=$(abspath $(DEB_STAGE)) PREFIX=/usr \
		bindir=/usr/bin sbindir=/usr/sbin mandir=/usr/share/man \
		docdir=/usr/share/doc/texporter sysconfdir=/etc unitdir=/lib/systemd/system
	strip --strip-unneeded --remove-section=.comment --remove-section=.note \
		$(DEB_STAGE)/usr/sbin/texporter-load $(DEB_STAGE)/usr/bin/texporter-read
	gzip -9n $(DEB_STAGE)/usr/share/man/man8/*.8
	$(INSTALL) -m 0644 scripts/deb/copyright $(DEB_STAGE)/usr/share/doc/texporter/copyright
	printf 'texporter (%s) unstable; urgency=medium\n\n  * texporter %s.\n\n -- %s  %s\n' \
		'$(DEB_VERSION)' '$(DEB_VERSION)' '$(DEB_MAINTAINER)' '$(DEB_DATE)' \
		| gzip -9n > $(DEB_STAGE)/usr/share/doc/texporter/changelog.gz
	$(INSTALL) -d $(DEB_STAGE)/usr/share/lintian/overrides $(DEB_STAGE)/DEBIAN
	$(INSTALL) -m 0644 scripts/deb/lintian-overrides \
		$(DEB_STAGE)/usr/share/lintian/overrides/texporter
	$(INSTALL) -m 0755 scripts/deb/postinst scripts/deb/prerm scripts/deb/postrm \
		$(DEB_STAGE)/DEBIAN/
	cd $(DEB_STAGE) && find etc -type f | sed 's|^|/|' | LC_ALL=C sort > DEBIAN/conffiles
	cd $(DEB_STAGE) && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' \
		| LC_ALL=C sort -z | xargs -0 md5sum > DEBIAN/md5sums
	# dpkg-shlibdeps expects a source tree: debian/control and the
	# package's files in debian/<package>; a minimal one will do.
	rm -rf $(DEB_STAGE).shlibs && mkdir -p $(DEB_STAGE).shlibs/debian
	printf 'Source: texporter\n\nPackage: texporter\nArchitecture: any\n' \
		> $(DEB_STAGE).shlibs/debian/control
	ln -s $(abspath $(DEB_STAGE)) $(DEB_STAGE).shlibs/debian/texporter
	shlibs=$$(cd $(DEB_STAGE).shlibs && dpkg-shlibdeps -O \
		debian/texporter/usr/sbin/texporter-load debian/texporter/usr/bin/texporter-read \
		| sed -n 's/^shlibs:Depends=//p') && \
	size=$$(du -sk --exclude=DEBIAN $(DEB_STAGE) | cut -f1) && \
	sed -e 's|@VERSION@|$(DEB_VERSION)|' -e 's|@ARCH@|$(DEB_ARCH)|' \
	    -e 's|@MAINTAINER@|$(DEB_MAINTAINER)|' -e "s|@SIZE@|$$size|" \
	    -e "s|@SHLIBS@|$${shlibs:+$$shlibs, }|" scripts/deb/control.in > $(DEB_STAGE)/DEBIAN/control
	rm -rf $(DEB_STAGE).shlibs
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) dpkg-deb --root-owner-group -Zxz --build $(DEB_STAGE) $(DEB_FILE)

## lintian  build the .deb and check it (docs/packaging.md explains the overrides)
lintian: deb
	lintian --fail-on error,warning --display-info $(DEB_FILE)

DIST_NAME  = texporter-$(VERSION)-$(shell uname -m)
DIST_FILE  = $(BUILD)/$(DIST_NAME).tar.gz

.PHONY: dist packages
## dist     $(BUILD)/texporter-VERSION-ARCH.tar.gz: the static binaries, units,
##          man pages, docs and configs at the paths of an install under /usr
dist: static
	rm -rf $(BUILD)/dist && mkdir -p $(BUILD)/dist
	$(MAKE) -f $(firstword $(MAKEFILE_LIST)) --no-print-directory install STATIC=1 \
		BIN_DIR=$(STATIC_BUILD) DESTDIR=$(abspath $(BUILD)/dist/$(DIST_NAME)) PREFIX=/usr \
		bindir=/usr/bin sbindir=/usr/sbin mandir=/usr/share/man \
		docdir=/usr/share/doc/texporter sysconfdir=/etc unitdir=/usr/lib/systemd/system
	strip --strip-unneeded $(BUILD)/dist/$(DIST_NAME)/usr/sbin/texporter-load \
		$(BUILD)/dist/$(DIST_NAME)/usr/bin/texporter-read
	$(INSTALL) -m 0644 LICENSE README.md $(BUILD)/dist/$(DIST_NAME)/
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@$(SOURCE_DATE_EPOCH) \
		-C $(BUILD)/dist -czf $(DIST_FILE) $(DIST_NAME)
	@echo "$(DIST_FILE)"

## packages the .deb, .rpm and .apk with the static binaries, and the dist tarball
packages: static
	$(MAKE) -f $(firstword $(MAKEFILE_LIST)) --no-print-directory STATIC=1 deb rpm apk dist
