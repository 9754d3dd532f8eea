/* The problem catalogue: every code the service can answer, once, with its
 * HTTP status and its title (RFC 9457: the same title for every occurrence).
 * Call sites name the code only: problem(r, P_OUT_OF_STOCK, ...). A unit test
 * (tests/unit/test_problem.c) keeps docs/openapi.yaml and README.md in step. */
#ifndef COMMERCE_HTTP_PROBLEM_H
#define COMMERCE_HTTP_PROBLEM_H

#include <stddef.h>

/* X(code, status, title). RATE_LIMITED and the 503 nginx writes are answered
 * by the nginx site itself (with these very codes), never by a worker. */
#define PROBLEM_CATALOGUE(X)                                                                       \
    X(INVALID_REQUEST, 400, "Invalid request")                                                     \
    X(UNAUTHORIZED, 401, "Unauthorized")                                                           \
    X(FORBIDDEN, 403, "Forbidden")                                                                 \
    X(NOT_FOUND, 404, "Not found")                                                                 \
    X(USER_NOT_FOUND, 404, "User not found")                                                       \
    X(PRODUCT_NOT_FOUND, 404, "Product not found")                                                 \
    X(ORDER_NOT_FOUND, 404, "Order not found")                                                     \
    X(COUPON_NOT_FOUND, 404, "Coupon not found")                                                   \
    X(METHOD_NOT_ALLOWED, 405, "Method not allowed")                                               \
    X(OUT_OF_STOCK, 409, "Out of stock")                                                           \
    X(INSUFFICIENT_BALANCE, 409, "Insufficient balance")                                           \
    X(BALANCE_LIMIT_EXCEEDED, 409, "Balance limit exceeded")                                       \
    X(COUPON_SOLD_OUT, 409, "Coupon sold out")                                                     \
    X(COUPON_ALREADY_ISSUED, 409, "Coupon already issued")                                         \
    X(COUPON_NOT_USABLE, 409, "Coupon not usable")                                                 \
    X(ORDER_NOT_CANCELLABLE, 409, "Order not cancellable")                                         \
    X(CART_EMPTY, 409, "Cart empty")                                                               \
    X(IDEMPOTENCY_KEY_IN_USE, 409, "Idempotency key in use")                                       \
    X(PAYLOAD_TOO_LARGE, 413, "Payload too large")                                                 \
    X(UNSUPPORTED_MEDIA_TYPE, 415, "Unsupported media type")                                       \
    X(IDEMPOTENCY_KEY_REUSED, 422, "Idempotency key reused")                                       \
    X(RATE_LIMITED, 429, "Too many requests")                                                      \
    X(INTERNAL_ERROR, 500, "Internal error")                                                       \
    X(SERVICE_UNAVAILABLE, 503, "Service unavailable")                                             \
    X(OUTCOME_UNKNOWN, 503, "Outcome unknown")

typedef enum problem_code {
#define PROBLEM_ENUM(code, status, title) P_##code,
    PROBLEM_CATALOGUE(PROBLEM_ENUM)
#undef PROBLEM_ENUM
        P_COUNT
} problem_code_t;

typedef struct problem_def {
    const char *code; /* as the API writes it: "OUT_OF_STOCK" */
    int status;
    const char *title;
} problem_def_t;

/* The entry of a code (P_COUNT and beyond: INTERNAL_ERROR's). */
const problem_def_t *problem_def(problem_code_t c);

#endif
