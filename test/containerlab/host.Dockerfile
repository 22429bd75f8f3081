# The lab's switch and worker nodes: Debian 12 with iproute2, BIRD 2 (as Calico
# runs it) and gobgpd (as Cilium runs it), the same packages the namespace
# harness uses.  docker build -t t5gw-host:dev -f test/containerlab/host.Dockerfile .
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
        iproute2 iputils-ping bird2 gobgpd procps \
    && rm -rf /var/lib/apt/lists/*
CMD ["sleep", "infinity"]
