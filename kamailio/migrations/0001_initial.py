# SipCredential moved here from `registrations`; its table keeps its name, so only Django's
# idea of which app owns it changes (registrations 0007 lets go of it).

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("registrations", "0006_session_cseq_and_no_binding"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SipCredential",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("name", models.SlugField(max_length=64, unique=True)),
                        ("secret_sha256", models.CharField(max_length=64)),
                        (
                            "allowed_networks",
                            models.TextField(
                                blank=True,
                                help_text="Space-separated CIDR ranges this node calls from. "
                                "Empty: any address.",
                            ),
                        ),
                        ("is_active", models.BooleanField(default=True)),
                        (
                            "rpc_url",
                            models.URLField(
                                blank=True,
                                help_text="Kamailio's JSON-RPC endpoint on this node (jsonrpcs "
                                "over HTTP, e.g. http://127.0.0.1:5071/RPC), used to log a "
                                "handset out at once. Empty: not reachable.",
                                verbose_name="RPC URL",
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        "verbose_name": "SIP edge credential",
                        "db_table": "registrations_sipcredential",
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
