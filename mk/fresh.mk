# make test-fresh: the README's `make run` and `make test` on a minimal
# Debian 12 root (debootstrap --variant=minbase, then only git, make and
# ca-certificates), from a clone of HEAD under /root. Needs root.
# See hack/test-fresh.sh for what it checks and what it caches
# (FRESH_CACHE, default /var/cache/imagebuilder-webhook-fresh).
.PHONY: test-fresh
test-fresh:
	@hack/install-deps.sh fresh
	@hack/test-fresh.sh
