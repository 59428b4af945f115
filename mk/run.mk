# make run: the webhook on 127.0.0.1:8443 with development certificates.
.PHONY: run dev-certs

DEV_CERTS := certs/dev/tls.crt

dev-certs: $(DEV_CERTS)
# gen-certs.sh runs openssl, which the build group installs.
$(DEV_CERTS): | $(DEPS_STAMP)
	certs/gen-certs.sh --out certs/dev --extra-san DNS:localhost --extra-san IP:127.0.0.1 >/dev/null

# The run group: what the suggested commands below need (curl, python3).
run: $(BIN) $(DEV_CERTS)
	@hack/install-deps.sh build run
	@echo "imagebuilder-webhook: https://127.0.0.1:8443/mutate (metrics: http://127.0.0.1:9090/metrics)"
	@echo "send a dry-run review from another terminal:"
	@echo "  hack/dry-run.sh tests/integration/fixtures/pod-union.yaml"
	@echo "or: curl --cacert certs/dev/ca.crt -H 'Content-Type: application/json' \\"
	@echo "       --data-binary @REVIEW.json https://localhost:8443/mutate"
	exec $(BIN) serve --config hack/dev-config.yaml
