# Live checks (registry existence, production namespace): the test driver
# and the local fake servers used by tests/live/run.sh.
#
#   make test-live    run tests/live against docker-registry and the fakes

LIVE_DRIVER := $(BUILD)/live-driver
LIVE_FAKES  := $(BUILD)/live-fakes

$(LIVE_DRIVER): tests/live/driver.c $(WEBHOOK_LIBS)
	$(CC) $(CFLAGS) -o $@ tests/live/driver.c $(WEBHOOK_LIBS) $(LDFLAGS) $(PKG_LIBS)

$(LIVE_FAKES): $(wildcard tests/live/fakes/*.go tests/internal/testkit/*.go)
	tests/go-build.sh $@ live/fakes

.PHONY: test-live live-tools
live-tools: $(LIVE_DRIVER) $(LIVE_FAKES)

test-live: live-tools
	tests/live/run.sh
