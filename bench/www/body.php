<?php
// The request-body scenarios: PHP reads the whole body and answers its length.
header('Content-Type: text/plain');
echo strlen(file_get_contents('php://input')), "\n";
