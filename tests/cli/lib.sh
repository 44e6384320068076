# Shared by the command-line tests: source it, call check/contains, and end
# with `summary`, which prints the "N passed, N failed" line and sets the
# exit status.
pass=0
fails=0

check() { # description, expected, actual
  if [ "$2" == "$3" ]; then
    pass=$((pass + 1))
  else
    echo "FAIL: $1"
    echo "  expected: $2"
    echo "  actual:   $3"
    fails=$((fails + 1))
  fi
}

contains() { # description, needle, haystack
  if [[ "$3" == *"$2"* ]]; then
    pass=$((pass + 1))
  else
    echo "FAIL: $1: '$2' not in:"
    echo "$3" | head -5
    fails=$((fails + 1))
  fi
}

summary() {
  echo "$pass passed, $fails failed"
  [ "$fails" -eq 0 ]
}
