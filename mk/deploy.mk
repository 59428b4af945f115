# Deployment: certificates, manifests, the Helm chart and their checks.
#
#   make deploy-certs      CA + serving certificate in certs/out (prints the caBundle)
#   make deploy-manifests  fill the caBundle of manifests/ from certs/out
#   make chart-render      render the chart with helm, defaults (CHART_VALUES=file to add values)
#   make test-deploy       the deployment checks (tests/deploy/run.sh)
#   make docker-image      build the container image (needs docker): IMAGE=registry/path/name
#                          tags $(IMAGE):$(VERSION), base images pinned by digest
#   make docker-push       push it and print the chart values that pin it by digest

HELM        ?= helm
CHART_DIR   := charts/imagebuilder-webhook
CHART_VALUES ?=

IMAGE       ?= imagebuilder-webhook
BASE_BUILD   := debian:12
BASE_RUNTIME := debian:12-slim

.PHONY: deploy-certs deploy-manifests chart-render test-deploy docker-image docker-push

deploy-certs:
	certs/gen-certs.sh --out certs/out

deploy-manifests: deploy-certs
	hack/fill-cabundle.sh --certs certs/out

chart-render:
	@$(HELM) template imagebuilder-webhook $(CHART_DIR) -n imagebuilder $(if $(CHART_VALUES),-f $(CHART_VALUES))

test-deploy: $(BIN)
	WEBHOOK_BIN=$(abspath $(BIN)) HELM=$(HELM) tests/deploy/run.sh

# The base images are pulled first and passed as name@digest, so the image
# is built from exactly what was resolved (and the digest is in its labels).
docker-image:
	@command -v docker >/dev/null || { echo "docker-image: docker is needed" >&2; exit 1; }
	docker pull -q $(BASE_BUILD) >/dev/null && docker pull -q $(BASE_RUNTIME) >/dev/null
	@set -e; \
	build=$$(docker image inspect --format '{{index .RepoDigests 0}}' $(BASE_BUILD)); \
	runtime=$$(docker image inspect --format '{{index .RepoDigests 0}}' $(BASE_RUNTIME)); \
	echo "docker-image: build stage $$build, runtime stage $$runtime"; \
	docker build -t $(IMAGE):$(VERSION) \
	  --build-arg BUILD_BASE=$$build --build-arg RUNTIME_BASE=$$runtime \
	  --build-arg VERSION=$(VERSION) \
	  --build-arg REVISION=$$(git rev-parse HEAD 2>/dev/null) \
	  --build-arg CREATED=$$(git log -1 --format=%cI 2>/dev/null) \
	  --build-arg SOURCE=$$(git remote get-url origin 2>/dev/null) .; \
	size=$$(docker image inspect --format '{{.Size}}' $(IMAGE):$(VERSION)); \
	echo "docker-image: $(IMAGE):$(VERSION), $$((size / 1000000)) MB uncompressed"; \
	echo "Push it (make docker-push IMAGE=$(IMAGE)), then install the chart with:"; \
	echo "  --set deployment.image.repository=$(IMAGE)"

docker-push:
	docker push $(IMAGE):$(VERSION)
	@digest=$$(docker image inspect --format '{{index .RepoDigests 0}}' $(IMAGE):$(VERSION)); \
	echo "Pushed. To pin the chart to exactly this image:"; \
	echo "  --set deployment.image.repository=$(IMAGE) --set deployment.image.digest=$${digest#*@}"
