#!/usr/bin/env bash
# logparse-bench.sh [DIR] [extra flags] — loghub-2k benchmark of the online
# log-template miner (switchboard aiops logparse --eval). The header formats
# are the ones published with loghub (logpai/logparser benchmark settings):
# they describe each dataset's header; the miner's configuration is the same
# generic one for every system.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SB_LOG_TAG=bench-logparse
cd "$SB_ROOT"
go_env_setup
dir=${1:-$SB_ROOT/../shared/datasets/loghub2k}
shift || true
[[ -d "$dir" ]] || die "no LogHub-2k data at $dir (give the directory as the first argument)"
go build -o .cache/bin/switchboard ./cmd/switchboard
exec .cache/bin/switchboard aiops logparse --eval "$dir" \
	--eval-format 'HDFS=<Date> <Time> <Pid> <Level> <Component>: <Content>' \
	--eval-format 'Hadoop=<Date> <Time> <Level> \[<Process>\] <Component>: <Content>' \
	--eval-format 'Spark=<Date> <Time> <Level> <Component>: <Content>' \
	--eval-format 'Zookeeper=<Date> <Time> - <Level>  \[<Node>:<Component>@<Id>\] - <Content>' \
	--eval-format 'BGL=<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> <Component> <Level> <Content>' \
	--eval-format 'HPC=<LogId> <Node> <Component> <State> <Time> <Flag> <Content>' \
	--eval-format 'Thunderbird=<Label> <Timestamp> <Date> <User> <Month> <Day> <Time> <Location> <Component>(\[<PID>\])?: <Content>' \
	--eval-format 'Windows=<Date> <Time>, <Level>                  <Component>    <Content>' \
	--eval-format 'Linux=<Month> <Date> <Time> <Level> <Component>(\[<PID>\])?: <Content>' \
	--eval-format 'Android=<Date> <Time>  <Pid>  <Tid> <Level> <Component>: <Content>' \
	--eval-format 'HealthApp=<Time>\|<Component>\|<Pid>\|<Content>' \
	--eval-format 'Apache=\[<Time>\] \[<Level>\] <Content>' \
	--eval-format 'Proxifier=\[<Time>\] <Program> - <Content>' \
	--eval-format 'OpenSSH=<Date> <Day> <Time> <Component> sshd\[<Pid>\]: <Content>' \
	--eval-format 'OpenStack=<Logrecord> <Date> <Time> <Pid> <Level> <Component> \[<ADDR>\] <Content>' \
	--eval-format 'Mac=<Month>  <Date> <Time> <User> <Component>\[<PID>\]( \(<Address>\))?: <Content>' \
	"$@"
