// libcurl's option setters are C variadic functions, which Swift cannot
// call; these typed inline wrappers are the only C thinkgraph adds (with the
// thread naming below, a GNU extension Swift's Glibc module leaves out).
#include <curl/curl.h>
#include <sys/prctl.h>

typedef size_t (*tg_curl_data_callback)(char *, size_t, size_t, void *);

static inline CURLcode tg_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode tg_easy_setopt_pointer(CURL *handle, CURLoption option, const void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode tg_easy_setopt_size(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode tg_easy_setopt_callback(CURL *handle, CURLoption option, tg_curl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode tg_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode tg_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLMcode tg_multi_setopt_long(CURLM *handle, CURLMoption option, long value) {
    return curl_multi_setopt(handle, option, value);
}

// Names the calling thread (15 bytes at most), as `ps -L` and
// /proc/self/task/*/comm show it: the transport's event loop is findable.
static inline void tg_name_this_thread(const char *name) { prctl(PR_SET_NAME, name, 0, 0, 0); }
