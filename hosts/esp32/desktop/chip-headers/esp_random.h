/* Compile check only (README.md): ESP-IDF components/esp_hw_support/include/esp_random.h */
#include <stddef.h>
void esp_fill_random(void *buf, size_t len);
