/*
 * openapi.h - openapi/openapi.yaml, converted to JSON at build time and
 * embedded, served at GET /openapi.json.
 */
#ifndef SL_ROUTES_OPENAPI_H
#define SL_ROUTES_OPENAPI_H

#include <stddef.h>

extern const char openapi_json[];
extern const size_t openapi_json_len;

#endif
