<?php
// The overload scenario: a script that takes 5 ms of a worker's time without using a core.
usleep(5000);
header('Content-Type: text/plain');
echo "slept 5 ms\n";
