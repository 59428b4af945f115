# Container image of the webhook: built with the project's Makefile on
# Debian 12, run as the unprivileged uid/gid 65532 with only the binary and
# its shared libraries.
#
# Build with `make docker-image IMAGE=registry.example.com/team/imagebuilder-webhook`:
# it pulls the two base images, pins them by the digests it just resolved
# (BUILD_BASE and RUNTIME_BASE as name@sha256:...), fills the OCI labels,
# tags $(IMAGE):$(VERSION) and prints the size and the helm --set to use.
#
# A plain `docker build .` uses the tags below, unpinned. To pin them in this
# file instead, replace each default with the digest of the image index,
# e.g. from `docker buildx imagetools inspect debian:12-slim` (the "Digest:"
# line): ARG RUNTIME_BASE=debian:12-slim@sha256:<digest>. Refresh it when
# Debian publishes a point release or security update of the image.
ARG BUILD_BASE=debian:12
ARG RUNTIME_BASE=debian:12-slim

FROM ${BUILD_BASE} AS build
WORKDIR /src
COPY . .
RUN hack/install-deps.sh build \
 && make bin/imagebuilder-webhook \
 && bin/imagebuilder-webhook --version

FROM ${RUNTIME_BASE}
ARG RUNTIME_BASE
ARG VERSION=0.0.0
ARG REVISION=""
ARG CREATED=""
ARG SOURCE=""
LABEL org.opencontainers.image.title="imagebuilder-webhook" \
      org.opencontainers.image.description="Kubernetes mutating admission webhook for Union's image builder" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.base.name="${RUNTIME_BASE}"
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libcjson1 libcurl4 libh2o-evloop0.13 libssl3 libwslay1 libyaml-0-2 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/bin/imagebuilder-webhook /usr/local/bin/imagebuilder-webhook
USER 65532:65532
EXPOSE 8443 9090
ENTRYPOINT ["/usr/local/bin/imagebuilder-webhook"]
CMD ["serve", "--config", "/etc/imagebuilder-webhook/config.yaml"]
