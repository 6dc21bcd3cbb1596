<?php
header('Content-Type: text/html; charset=utf-8');
$keys = ['SCRIPT_NAME', 'PATH_INFO', 'SCRIPT_FILENAME', 'DOCUMENT_ROOT', 'REQUEST_URI', 'QUERY_STRING', 'REMOTE_ADDR', 'SERVER_SOFTWARE'];
echo "<h1>PHP " . htmlspecialchars(PHP_VERSION) . " via fastify-fastcgi</h1><table>";
foreach ($keys as $k) {
  echo '<tr><th>' . $k . '</th><td>' . htmlspecialchars($_SERVER[$k] ?? '') . '</td></tr>';
}
echo "</table>";
