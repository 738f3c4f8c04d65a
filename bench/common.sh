# Sourced by every bench/<name>/run (bash). Sets:
#   root      the repository
#   quick     true when QUICK=1 (smaller inputs, fewer repetitions)
#   results   where <name>.json goes: $BENCH_RESULTS if set, else bench/results (full
#             runs, committed) or bench/results/quick (QUICK=1, git-ignored), so a quick
#             run never overwrites the committed full figures
#   cache     bench/.cache (git-ignored; $CTPREP_BENCH_CACHE overrides): generated
#             inputs kept between runs (the v4-scale world takes minutes to make)
#   load_start the 1-minute load average when the benchmark started
# and bench_meta, which prints the JSON fields every result carries.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
quick=false
if [[ "${QUICK:-0}" == 1 ]]; then quick=true; fi
if [[ -n "${BENCH_RESULTS:-}" ]]; then
  results=$BENCH_RESULTS
elif $quick; then
  results=$root/bench/results/quick
else
  results=$root/bench/results
fi
mkdir -p "$results"
results=$(cd "$results" && pwd)
export BENCH_RESULTS=$results
cache=${CTPREP_BENCH_CACHE:-$root/bench/.cache}
mkdir -p "$cache"
load_start=$(cut -d' ' -f1 /proc/loadavg)
export BENCH_LOAD_START=$load_start

# "quick":..,"date":..,"load_average":.. (the 1-minute load when the benchmark started:
# the machine is shared, so figures taken under load are slower than on an idle machine).
bench_meta() {
  printf '"quick":%s,"date":"%s","load_average":%s' "$quick" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$load_start"
}

# bench_world CTPREP SCALE: prints the path of a cached synthetic world of that scale
# (demo or v4), making it once (`ctprep synth world`, seed 42); the seconds it took are
# in <world>/.complete.
bench_world() {
  local ctprep=$1 scale=$2 world s e
  world=$cache/world-$scale
  if [[ ! -f "$world/.complete" ]]; then
    rm -rf "$world"
    echo "generating a $scale-scale synthetic world in $world (once)" >&2
    s=$(date +%s.%N)
    "$ctprep" synth world --out "$world" --scale "$scale" --jobs 2 --quiet >/dev/null
    e=$(date +%s.%N)
    awk -v s="$s" -v e="$e" 'BEGIN { printf "%.1f\n", e - s }' > "$world/.complete"
  fi
  echo "$world"
}

# bench_release CTPREP SCALE: prints the path of a cached release (`ctprep prepare` of
# bench_world's world: 6class_coco_original, 6class_coco, 4class_coco_original,
# 4class_coco), making it once. bench/prepare replaces it with the release it has just
# built, so in a full `make bench` validate checks the current binary's output.
bench_release() {
  local ctprep=$1 scale=$2 world release
  world=$(bench_world "$ctprep" "$scale")
  release=$cache/release-$scale
  if [[ ! -f "$release/.done" ]]; then
    rm -rf "$release"
    echo "preparing the $scale-scale release in $release (once)" >&2
    "$ctprep" prepare --data-root "$world" --output "$release" --jobs 2 --quiet >/dev/null
    touch "$release/.done"
  fi
  echo "$release"
}
