/* The README's example: log one record for a tenant and audit one
 * database write. Build: cc hello.c $(pkg-config --cflags --libs
 * tenantlog). */
#include <tenantlog/tenantlog.h>

int main(void)
{
    struct tl_logger *lg;

    if (tl_logger_open(NULL, &lg) != 0) { /* embedded default config */
        return 1;
    }
    TL_CONTEXT_SCOPE(.tenant = "acme", .request_id = "req-42");
    struct tl_field f[] = {TL_STR("user", "alice"), TL_U64("rows", 3)};
    tl_log(lg, TL_INFO, "billing", "invoice created", f, 2);
    struct tl_audit_event ev = {.actor_type = "user",
                                .actor_id = "alice",
                                .action = "db.insert",
                                .target_type = "invoice",
                                .target_id = "1001",
                                .outcome = TL_OUTCOME_SUCCESS};
    int failed = tl_audit(lg, &ev, NULL) != 0;
    return tl_logger_close(lg, 0) == 0 && !failed ? 0 : 1;
}
