import threading, time
import pytest
from django.db import connection

@pytest.mark.django_db
def test_probe():
    time.sleep(1)
    print([t.name for t in threading.enumerate()])
    with connection.cursor() as c:
        c.execute("select pid, state, backend_start, left(query, 120) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()")
        for row in c.fetchall(): print(row)
