#!/bin/sh
# l1's start: make VRF blue as a network namespace, with the L3VNI 4001 and the
# worker subnet's L2VNI 100 (and its SVI) inside, before FRR starts. zebra -n
# binds "vrf blue / vni 4001" only to a namespace that exists when it starts.
set -e
ip netns add blue
ip -n blue link set lo up
ip link add vxlan4001 type vxlan id 4001 local 10.0.0.11 dstport 4789 nolearning
ip link set vxlan4001 netns blue
ip link add vxlan100 type vxlan id 100 local 10.0.0.11 dstport 4789 nolearning
ip link set vxlan100 netns blue
ip -n blue link add br4001 type bridge
ip -n blue link set vxlan4001 master br4001
ip -n blue link add br100 type bridge
ip -n blue link set vxlan100 master br100
ip -n blue addr add 192.168.10.251/24 dev br100
for d in vxlan4001 br4001 vxlan100 br100; do ip -n blue link set $d up; done
exec /usr/lib/frr/docker-start
