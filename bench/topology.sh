#!/bin/bash
# A shaped three-namespace link with known truth, for bench/netbench.py.
#   topology.sh up LAB DOWN UP LOSS DELAY_MS JITTER_MS   e.g. up nb 20mbit 5mbit 0.01 20 3
#   topology.sh down LAB
#   topology.sh rate LAB DOWN UP        change the tbf rates of a running lab (capacity drops)
# Optional environment: QUEUE_MS (tbf queue, default 200; large = bufferbloat),
# LOSS_ALL=1 (the loss applies to every packet, TCP too, not only UDP), BURST (tbf
# burst, default 64kbit; faster links need about rate/1000, e.g. 256kbit at 200mbit).
# LAB-cli (10.88.1.2) -- veth -- LAB-rtr -- veth -- LAB-srv (10.88.2.2)
# - rate: tbf on the router's port towards the client (download) and on the
#   client's own port (upload);
# - UDP loss: iptables statistic DROP on arrival at the client and at the server
#   (so each direction loses LOSS, independently);
# - delay and jitter: every packet between the two subnets is routed through a
#   TUN device in the router namespace served by linkdelay (examples/linkdelay.rs),
#   which releases it DELAY_MS ± JITTER_MS later (one way), flows kept in order.
# Needs root, iproute2, iptables and a built linkdelay (LINKDELAY=path).
set -eu
cmd=$1 lab=$2
cli=$lab-cli rtr=$lab-rtr srv=$lab-srv
case $cmd in
up)
  down=$3 up=$4 loss=$5 delay=$6 jitter=$7
  linkdelay=${LINKDELAY:-target/release/examples/linkdelay}
  for ns in $cli $rtr $srv; do ip netns add $ns; ip -n $ns link set lo up; done
  ip link add $lab-c0 type veth peer name $lab-r1
  ip link add $lab-r2 type veth peer name $lab-s0
  ip link set $lab-c0 netns $cli; ip link set $lab-r1 netns $rtr
  ip link set $lab-r2 netns $rtr; ip link set $lab-s0 netns $srv
  ip -n $cli addr add 10.88.1.2/24 dev $lab-c0
  ip -n $rtr addr add 10.88.1.1/24 dev $lab-r1
  ip -n $rtr addr add 10.88.2.1/24 dev $lab-r2
  ip -n $srv addr add 10.88.2.2/24 dev $lab-s0
  for l in "$cli $lab-c0" "$rtr $lab-r1" "$rtr $lab-r2" "$srv $lab-s0"; do set -- $l; ip -n $1 link set $2 up; done
  ip -n $cli route add default via 10.88.1.1
  ip -n $srv route add default via 10.88.2.1
  ip netns exec $rtr sysctl -qw net.ipv4.ip_forward=1
  ip netns exec $rtr sysctl -qw net.ipv4.conf.all.rp_filter=0
  ip netns exec $rtr sysctl -qw net.ipv4.conf.default.rp_filter=0
  if [ "$delay" != 0 ] || [ "$jitter" != 0 ]; then
    ip netns exec $rtr "$linkdelay" --dev dl0 --delay-ms "$delay" --jitter-ms "$jitter" > /tmp/$lab-linkdelay.log 2>&1 &
    echo $! > /tmp/$lab-linkdelay.pid
    for _ in $(seq 50); do ip -n $rtr link show dl0 >/dev/null 2>&1 && break; sleep 0.05; done
    ip -n $rtr link set dl0 up
    ip netns exec $rtr sysctl -qw net.ipv4.conf.dl0.rp_filter=0
    # From the subnets: to the far host via the delay line. From the delay line: straight on.
    ip -n $rtr route add 10.88.1.2/32 dev dl0
    ip -n $rtr route add 10.88.2.2/32 dev dl0
    ip -n $rtr route add 10.88.1.0/24 dev $lab-r1 table 100
    ip -n $rtr route add 10.88.2.0/24 dev $lab-r2 table 100
    ip -n $rtr rule add iif dl0 lookup 100 pref 100
  fi
  # tbf: burst must hold at least one rate/HZ of bytes; 64kbit suits up to ~100mbit.
  queue=${QUEUE_MS:-200}
  [ "$down" != 0 ] && ip netns exec $rtr tc qdisc add dev $lab-r1 root tbf rate "$down" burst ${BURST:-64kbit} latency ${queue}ms
  [ "$up" != 0 ] && ip netns exec $cli tc qdisc add dev $lab-c0 root tbf rate "$up" burst ${BURST:-64kbit} latency ${queue}ms
  if [ "$loss" != 0 ]; then
    proto="-p udp"; [ "${LOSS_ALL:-0}" = 1 ] && proto=""
    ip netns exec $cli iptables -A INPUT -i $lab-c0 $proto -m statistic --mode random --probability "$loss" -j DROP
    ip netns exec $srv iptables -A INPUT -i $lab-s0 $proto -m statistic --mode random --probability "$loss" -j DROP
  fi
  ;;
rate)
  queue=${QUEUE_MS:-200}
  ip netns exec $rtr tc qdisc change dev $lab-r1 root tbf rate "$3" burst ${BURST:-64kbit} latency ${queue}ms
  ip netns exec $cli tc qdisc change dev $lab-c0 root tbf rate "$4" burst ${BURST:-64kbit} latency ${queue}ms
  ;;
down)
  if [ -f /tmp/$lab-linkdelay.pid ]; then kill "$(cat /tmp/$lab-linkdelay.pid)" 2>/dev/null || true; rm -f /tmp/$lab-linkdelay.pid; fi
  for ns in $cli $rtr $srv; do ip netns del $ns 2>/dev/null || true; done
  ;;
*) echo "usage: topology.sh up LAB DOWN UP LOSS DELAY_MS JITTER_MS | rate LAB DOWN UP | down LAB" >&2; exit 2 ;;
esac
