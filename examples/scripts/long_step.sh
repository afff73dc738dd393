#!/bin/sh
# Stand-in for the source note's long-running post-install script: sleeps the given number of
# seconds (3 to 5 in the examples) and says what it did.
seconds="${1:-4}"
sleep "$seconds"
echo "post-install step done after ${seconds}s"
