<?php
// What many scripts do: a failed login logged with the name the client typed.
error_log('login failed for ' . ($_GET['user'] ?? ''));
header('Content-Type: text/plain');
echo "denied\n";
