"""The makers of the records that a translation makes by the thousand.

Each is `model/records.maker` of its record: it takes the class's keywords and makes the
same record as the class, in half the time (a class takes its keywords as a dictionary). A
pass over 10,000 Ingresses makes about 100,000 of them; elsewhere, the classes are called.
"""

from __future__ import annotations

from ingress_ctl.model.problems import Problem
from ingress_ctl.model.records import maker
from ingress_ctl.model.routing import Backend, ObjectRef, Route, ServiceRef, VirtualHost
from ingress_ctl.model.verdicts import BackendReport, IngressReport

new_object_ref = maker(ObjectRef)
new_service_ref = maker(ServiceRef)
new_backend = maker(Backend)
new_route = maker(Route)
new_virtual_host = maker(VirtualHost)
new_problem = maker(Problem)
new_backend_report = maker(BackendReport)
new_ingress_report = maker(IngressReport)
