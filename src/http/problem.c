#include "http/problem.h"

static const problem_def_t catalogue[P_COUNT] = {
#define PROBLEM_DEF(code, status, title) {#code, status, title},
    PROBLEM_CATALOGUE(PROBLEM_DEF)
#undef PROBLEM_DEF
};

const problem_def_t *problem_def(problem_code_t c)
{
    return &catalogue[(unsigned)c < P_COUNT ? c : P_INTERNAL_ERROR];
}
