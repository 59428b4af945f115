# Deployment: certificates, manifests, the Helm chart and their checks.
#
#   make deploy-certs      CA + serving certificate in certs/out (prints the caBundle)
#   make deploy-manifests  fill the caBundle of manifests/ from certs/out
#   make chart-render      render the chart with helm, defaults (CHART_VALUES=file to add values)
#   make test-deploy       the deployment checks (tests/deploy/run.sh)
#   make docker-image      build the container image (needs docker)

HELM        ?= helm
CHART_DIR   := charts/imagebuilder-webhook
CHART_VALUES ?=

.PHONY: deploy-certs deploy-manifests chart-render test-deploy docker-image

deploy-certs:
	certs/gen-certs.sh --out certs/out

deploy-manifests: deploy-certs
	hack/fill-cabundle.sh --certs certs/out

chart-render:
	@$(HELM) template imagebuilder-webhook $(CHART_DIR) -n imagebuilder $(if $(CHART_VALUES),-f $(CHART_VALUES))

test-deploy: $(BIN)
	WEBHOOK_BIN=$(abspath $(BIN)) HELM=$(HELM) tests/deploy/run.sh

docker-image:
	docker build -t imagebuilder-webhook:$(VERSION) .
