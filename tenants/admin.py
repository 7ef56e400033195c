from django.contrib import admin

from tenants.models import Domain, Plan, PlatformAuditLog, Shop


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "monthly_price", "max_staff", "max_products", "is_public",
                    "is_default"]


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ["name", "schema_name", "status", "plan", "created_at"]
    list_filter = ["status", "plan"]
    search_fields = ["name", "schema_name", "domains__domain", "owner_email"]
    readonly_fields = ["schema_name", "status", "created_at", "activated_at", "status_changed_at"]
    inlines = [DomainInline]

    # Shops change only through the console's services, which audit every action.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PlatformAuditLog)
class PlatformAuditLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor_label", "action", "shop"]
    list_filter = ["action"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
