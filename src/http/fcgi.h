/* The FastCGI edge: turn a libfcgi request into a req_t and write the
 * response back. */
#ifndef COMMERCE_FCGI_H
#define COMMERCE_FCGI_H

#include <fcgiapp.h>
#include <stddef.h>

#include "http/req.h"

/* Fill r from fr. The body is read only when CONTENT_LENGTH is within
 * max_body; otherwise (or on a malformed length) returns C_REJECT with the
 * 413 or 400 problem already set. */
int fcgi_read(req_t *r, FCGX_Request *fr, size_t max_body);

/* Write status, headers (X-Request-Id echoed) and body. */
void fcgi_write(const req_t *r, FCGX_Request *fr);

#endif
