# Container image of the webhook: built with the project's Makefile on
# Debian 12, run as the unprivileged uid/gid 65532 with only the binary and
# its shared libraries. Build: docker build -t imagebuilder-webhook .

FROM debian:12 AS build
WORKDIR /src
COPY . .
RUN hack/install-deps.sh build \
 && make bin/imagebuilder-webhook \
 && bin/imagebuilder-webhook --version

FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libcjson1 libcurl4 libh2o-evloop0.13 libssl3 libwslay1 libyaml-0-2 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/bin/imagebuilder-webhook /usr/local/bin/imagebuilder-webhook
USER 65532:65532
EXPOSE 8443 9090
ENTRYPOINT ["/usr/local/bin/imagebuilder-webhook"]
CMD ["serve", "--config", "/etc/imagebuilder-webhook/config.yaml"]
