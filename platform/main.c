/* Firmware entry for compiled models: one measured inference, then exit(0). */
#include "mlml_platform.h"

void mlml_model_run(void);

int main(void) {
    mlml_region_begin();
    mlml_model_run();
    mlml_region_end();
    return 0;
}
