# Deployment: certificates, manifests, the Helm chart and their checks.
#
#   make deploy-certs      CA + serving certificate in certs/out (prints the caBundle)
#   make deploy-manifests  fill the caBundle of manifests/ from certs/out
#   make chart-render      render the chart with its defaults (CHART_VALUES=file to add values)
#   make test-deploy       the deployment checks (tests/deploy/run.sh)
#   make docker-image      build the container image (needs docker)

HELM_RENDER := $(BUILD)/helm-render
CHART_DIR   := charts/imagebuilder-webhook
CHART_VALUES ?=

.PHONY: deploy-certs deploy-manifests chart-render test-deploy docker-image

$(HELM_RENDER): hack/helm-render/main.go
	@mkdir -p $(@D)
	GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=$(abspath $(BUILD))/go-cache go build -o $@ ./hack/helm-render

deploy-certs:
	certs/gen-certs.sh --out certs/out

deploy-manifests: deploy-certs
	hack/fill-cabundle.sh --certs certs/out

chart-render: $(HELM_RENDER)
	@$(HELM_RENDER) $(if $(CHART_VALUES),-f $(CHART_VALUES)) $(CHART_DIR)

test-deploy: $(BIN) $(HELM_RENDER)
	WEBHOOK_BIN=$(abspath $(BIN)) HELM_RENDER=$(abspath $(HELM_RENDER)) tests/deploy/run.sh

docker-image:
	docker build -t imagebuilder-webhook:$(VERSION) .
