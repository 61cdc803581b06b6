/* Compile check only (README.md): ESP-IDF components/esp_common/include/esp_err.h and
   components/esp_netif/include/esp_netif.h */
typedef int esp_err_t;
#define ESP_OK 0
esp_err_t esp_netif_init(void);
