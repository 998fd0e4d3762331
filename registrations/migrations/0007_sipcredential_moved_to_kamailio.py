# SipCredential now belongs to the `kamailio` app (kamailio 0001), same table.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("registrations", "0006_session_cseq_and_no_binding"),
        ("kamailio", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="SipCredential")],
            database_operations=[],
        ),
    ]
