# texporter: the OCI image, included by the top-level Makefile.
#
# `make image` packs the .deb and the Debian packages its binaries link
# (scripts/image/build-rootfs) into a FROM scratch image with podman: no
# base image, nothing pulled from a registry. Tests build into their own
# storage: PODMAN="podman --root DIR ...", IMAGE_DIR, DEB_STAGE, DEB_FILE.

IMAGE     ?= texporter:$(VERSION)
PODMAN    ?= podman
IMAGE_DIR ?= $(BUILD)/image

.PHONY: image

## image    the OCI image texporter:VERSION (podman, FROM scratch, Debian's packages only)
image: deb
	command -v $(firstword $(PODMAN)) >/dev/null || \
		{ echo "make image: $(firstword $(PODMAN)) not found (sudo make deps)" >&2; exit 1; }
	scripts/image/build-rootfs $(DEB_FILE) $(IMAGE_DIR)/rootfs
	$(PODMAN) build --quiet --pull=never --tag $(IMAGE) -f deploy/image/Containerfile $(IMAGE_DIR)
	@$(PODMAN) image inspect --format '{{.Size}}' $(IMAGE) | \
		awk '{ printf "$(IMAGE): %.1f MB (%d bytes)\n", $$1 / 1000000, $$1 }'
