from django.urls import path

from . import views

app_name = "events"

urlpatterns = [
    path("", views.EventFeedView.as_view(), name="feed"),
    path("schemas/", views.EventTypeListView.as_view(), name="schema-list"),
    path("schemas/<str:type>", views.EventTypeSchemaView.as_view(), name="schema-detail"),
]
