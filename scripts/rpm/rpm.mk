# texporter: the RPM package (RHEL 9, Fedora, Amazon Linux 2023), included
# by the top-level Makefile after scripts/install.mk.
#
# `make rpm` stages `make install` with the static binaries of `make
# static` in $(RPM_STAGE), strips them and compresses the man pages as
# `make deb` does, lists the tree for %files (scripts/rpm/file-list), and
# has rpmbuild pack it in a _topdir of its own, so nothing outside $(BUILD)
# is read or written (not ~/rpmbuild, not ~/.rpmmacros' paths).
# Must stay true: the package requires no shared library (the binaries are
# static) and two builds of one commit are the same file (SOURCE_DATE_EPOCH,
# the last commit's date, as for the .deb). Tests build elsewhere with
# RPM_STAGE, RPM_TOPDIR and RPM_FILE.

RPMBUILD     ?= rpmbuild
RPMLINT      ?= rpmlint
RPM_VERSION  ?= $(VERSION)
RPM_RELEASE  ?= 1
RPM_ARCH     ?= $(shell uname -m)
RPM_PACKAGER ?= $(DEB_MAINTAINER)
RPM_STAGE    ?= $(BUILD)/rpm/stage
RPM_TOPDIR   ?= $(BUILD)/rpm/top
RPM_FILE     ?= $(BUILD)/texporter-$(RPM_VERSION)-$(RPM_RELEASE).$(RPM_ARCH).rpm
RPM_SPEC      = $(RPM_TOPDIR)/SPECS/texporter.spec
RPM_DATE     ?= $(shell LC_ALL=C date -u -d @$(SOURCE_DATE_EPOCH) '+%a %b %d %Y')

.PHONY: rpm rpmlint

## rpm      build $(BUILD)/texporter-VERSION-1.ARCH.rpm from the binaries of `make static`
##          (rpmbuild: Debian's package rpm)
rpm: static
	@command -v $(RPMBUILD) >/dev/null || \
		{ echo "make rpm: $(RPMBUILD) not found (Debian: apt-get install rpm)" >&2; exit 1; }
	rm -rf $(RPM_STAGE) $(RPM_TOPDIR) $(RPM_FILE)
	$(MAKE) -f $(firstword $(MAKEFILE_LIST)) --no-print-directory install \
		BUILD=$(BUILD) BIN_DIR=$(STATIC_BUILD) DESTDIR=$(abspath $(RPM_STAGE)) PREFIX=/usr \
		bindir=/usr/bin sbindir=/usr/sbin mandir=/usr/share/man \
		docdir=/usr/share/doc/texporter sysconfdir=/etc unitdir=/usr/lib/systemd/system
	strip --strip-unneeded --remove-section=.comment --remove-section=.note \
		$(RPM_STAGE)/usr/sbin/texporter-load $(RPM_STAGE)/usr/bin/texporter-read
	gzip -9n $(RPM_STAGE)/usr/share/man/man8/*.8
	$(INSTALL) -D -m 0644 LICENSE $(RPM_STAGE)/usr/share/licenses/texporter/LICENSE
	mkdir -p $(RPM_TOPDIR)/SPECS
	scripts/rpm/file-list $(RPM_STAGE) > $(RPM_TOPDIR)/files.list
	sed -e 's|@VERSION@|$(RPM_VERSION)|g' -e 's|@RELEASE@|$(RPM_RELEASE)|g' \
	    -e 's|@PACKAGER@|$(RPM_PACKAGER)|g' -e 's|@CHANGELOG_DATE@|$(RPM_DATE)|g' \
	    scripts/rpm/texporter.spec.in > $(RPM_SPEC)
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(RPMBUILD) -bb --quiet --target $(RPM_ARCH) \
		--define '_topdir $(abspath $(RPM_TOPDIR))' \
		--define 'texporter_stage $(abspath $(RPM_STAGE))' \
		--define 'texporter_files $(abspath $(RPM_TOPDIR))/files.list' \
		--define 'texporter_scripts $(abspath scripts/rpm)' \
		--define 'packager $(RPM_PACKAGER)' \
		$(RPM_SPEC)
	mv $(RPM_TOPDIR)/RPMS/$(RPM_ARCH)/texporter-$(RPM_VERSION)-$(RPM_RELEASE).$(RPM_ARCH).rpm \
		$(RPM_FILE)
	@ls -l $(RPM_FILE) | awk '{ printf "%s: %d bytes\n", $$NF, $$5 }'

## rpmlint  build the .rpm and check it and its spec (docs/packaging.md explains the filters)
rpmlint: rpm
	$(RPMLINT) --strict -c scripts/rpm/rpmlint.toml $(RPM_SPEC) $(RPM_FILE)
