/*
 * coldsec-lab-stub — the command of a sandbox prepared ahead of demand
 * (lab_sandbox.h, "Spares"). Kept apart from coldsec-lab so that starting it
 * in every spare costs one small exec (libc only), not the lab's 38 shared
 * libraries.
 */
#include "lab_sandbox.h"

int main(void)
{
    return lab_sandbox_stub_main();
}
