# texporter: the OCI image, included by the top-level Makefile.
#
# `make image` builds the static tools (`make static`), packs them as the
# .deb does (`make deb STATIC=1`, into IMAGE_DIR, so the .deb of a plain
# `make deb` in $(BUILD) is left alone) and puts that package, unpacked
# by scripts/image/build-rootfs, into a FROM scratch image with podman:
# no base image, no shared library, nothing pulled from a registry.
# Tests build into their own storage: PODMAN="podman --root DIR ...",
# IMAGE_DIR.

IMAGE     ?= texporter:$(VERSION)
PODMAN    ?= podman
IMAGE_DIR ?= $(BUILD)/image
IMAGE_DEB  = $(IMAGE_DIR)/texporter_$(DEB_VERSION)_$(DEB_ARCH).deb

.PHONY: image

## image    the OCI image texporter:VERSION (podman, FROM scratch, the static tools)
image:
	command -v $(firstword $(PODMAN)) >/dev/null || \
		{ echo "make image: $(firstword $(PODMAN)) not found (sudo make deps)" >&2; exit 1; }
	$(MAKE) --no-print-directory static
	$(MAKE) --no-print-directory STATIC=1 DEB_STAGE=$(IMAGE_DIR)/deb DEB_FILE=$(IMAGE_DEB) deb
	scripts/image/build-rootfs $(IMAGE_DEB) $(IMAGE_DIR)/rootfs
	$(PODMAN) build --quiet --pull=never --tag $(IMAGE) -f deploy/image/Containerfile $(IMAGE_DIR)
	@$(PODMAN) image inspect --format '{{.Size}}' $(IMAGE) | \
		awk '{ printf "$(IMAGE): %.1f MB (%d bytes)\n", $$1 / 1000000, $$1 }'
