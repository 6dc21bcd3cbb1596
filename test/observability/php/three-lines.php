<?php
// A three-line error on FCGI_STDERR, written as three error_log() calls, so that php-cgi sends
// it as three FCGI_STDERR records; then a body.
error_log('PHP Warning:  first line of the error');
error_log('Stack trace:');
error_log('#0 {main}');
header('Content-Type: text/plain');
echo "done\n";
