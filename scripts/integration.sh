#!/usr/bin/env bash
# integration.sh: the root-only suites under test/, as `make test` runs them.
#
# Two streams at once: test/e2e, the longest package (about half of the
# total), and every other package one after another. Inside a stream one
# package runs at a time (-p 1), so at most two suites share the two cores;
# the suites mostly wait on timers and peers, and each builds its networks
# in namespaces named by its own process id, so the streams do not meet.
# One stream after the other took 27 minutes; side by side about half.
#
# The other stream's lines are shown as they come; test/e2e's when it ends.
# The whole output of both is in /tmp/ipsecgw-integration.log.
set -uo pipefail
GO=${GO:-go}
log=/tmp/ipsecgw-integration.log
long=ipsecgw/test/e2e
summary='^(=== RUN|--- |PASS|FAIL|ok|SKIP)'

export IPSECGW_REQUIRE_ROOT=1
flags=(-race -count=1 -p 1 -timeout 40m -v)

rest=$("$GO" list ./test/... | grep -vx "$long") || exit 1

"$GO" test "${flags[@]}" "$long" >"$log.e2e" 2>&1 &
e2e=$!
# A background job does not get the terminal's interrupt: pass it on.
trap 'kill -INT $e2e 2>/dev/null; wait $e2e; exit 130' INT TERM

# shellcheck disable=SC2086 # one argument per package
"$GO" test "${flags[@]}" $rest 2>&1 | tee "$log.rest" | grep --line-buffered -E "$summary"
rc_rest=${PIPESTATUS[0]}
wait $e2e
rc_e2e=$?
trap - INT TERM

grep -E "$summary" "$log.e2e"
cat "$log.rest" "$log.e2e" >"$log"
rm -f "$log.rest" "$log.e2e"
echo "integration: test/e2e exit $rc_e2e, the other packages exit $rc_rest"
[ "$rc_e2e" = 0 ] && [ "$rc_rest" = 0 ]
