/*
 * caldav/tz.c -- Windows time zone names (as Outlook puts them in TZID)
 * to IANA names, for objects that come without a VTIMEZONE.  The pairs
 * are the territory-independent ("001") mappings of the Unicode CLDR
 * windowsZones data for the zones our users meet.
 */
#include "caldav/caldav_int.h"

#include <string.h>

static const struct {
    const char *windows;
    const char *iana;
} zones[] = {
    { "Dateline Standard Time", "Etc/GMT+12" },
    { "Hawaiian Standard Time", "Pacific/Honolulu" },
    { "Alaskan Standard Time", "America/Anchorage" },
    { "Pacific Standard Time", "America/Los_Angeles" },
    { "Mountain Standard Time", "America/Denver" },
    { "Central Standard Time", "America/Chicago" },
    { "Eastern Standard Time", "America/New_York" },
    { "Atlantic Standard Time", "America/Halifax" },
    { "Newfoundland Standard Time", "America/St_Johns" },
    { "E. South America Standard Time", "America/Sao_Paulo" },
    { "SA Eastern Standard Time", "America/Cayenne" },
    { "UTC", "Etc/UTC" },
    { "Coordinated Universal Time", "Etc/UTC" },
    { "GMT Standard Time", "Europe/London" },
    { "Greenwich Standard Time", "Atlantic/Reykjavik" },
    { "W. Europe Standard Time", "Europe/Berlin" },
    { "Romance Standard Time", "Europe/Paris" },
    { "Central Europe Standard Time", "Europe/Budapest" },
    { "Central European Standard Time", "Europe/Warsaw" },
    { "W. Central Africa Standard Time", "Africa/Lagos" },
    { "Morocco Standard Time", "Africa/Casablanca" },
    { "GTB Standard Time", "Europe/Bucharest" },
    { "E. Europe Standard Time", "Europe/Chisinau" },
    { "FLE Standard Time", "Europe/Kiev" },
    { "South Africa Standard Time", "Africa/Johannesburg" },
    { "Israel Standard Time", "Asia/Jerusalem" },
    { "Turkey Standard Time", "Europe/Istanbul" },
    { "Russian Standard Time", "Europe/Moscow" },
    { "Arabian Standard Time", "Asia/Dubai" },
    { "Arab Standard Time", "Asia/Riyadh" },
    { "Iran Standard Time", "Asia/Tehran" },
    { "Pakistan Standard Time", "Asia/Karachi" },
    { "India Standard Time", "Asia/Kolkata" },
    { "Bangladesh Standard Time", "Asia/Dhaka" },
    { "SE Asia Standard Time", "Asia/Bangkok" },
    { "China Standard Time", "Asia/Shanghai" },
    { "Singapore Standard Time", "Asia/Singapore" },
    { "Taipei Standard Time", "Asia/Taipei" },
    { "Tokyo Standard Time", "Asia/Tokyo" },
    { "Korea Standard Time", "Asia/Seoul" },
    { "AUS Eastern Standard Time", "Australia/Sydney" },
    { "E. Australia Standard Time", "Australia/Brisbane" },
    { "Cen. Australia Standard Time", "Australia/Adelaide" },
    { "W. Australia Standard Time", "Australia/Perth" },
    { "New Zealand Standard Time", "Pacific/Auckland" },
    { "Reunion Standard Time", "Indian/Reunion" },
    { "Mauritius Standard Time", "Indian/Mauritius" },
    { "SA Western Standard Time", "America/La_Paz" },
    { "SA Pacific Standard Time", "America/Bogota" },
    { "Central America Standard Time", "America/Guatemala" },
    { "Mexico Standard Time", "America/Mexico_City" },
    { "Central Standard Time (Mexico)", "America/Mexico_City" },
    { "US Mountain Standard Time", "America/Phoenix" },
    { "Argentina Standard Time", "America/Buenos_Aires" },
    { "Azores Standard Time", "Atlantic/Azores" },
    { "Cape Verde Standard Time", "Atlantic/Cape_Verde" },
    { "Egypt Standard Time", "Africa/Cairo" },
    { "E. Africa Standard Time", "Africa/Nairobi" },
    { "Arabic Standard Time", "Asia/Baghdad" },
    { "Caucasus Standard Time", "Asia/Yerevan" },
    { "Afghanistan Standard Time", "Asia/Kabul" },
    { "Nepal Standard Time", "Asia/Katmandu" },
    { "Myanmar Standard Time", "Asia/Rangoon" },
    { "North Asia Standard Time", "Asia/Krasnoyarsk" },
    { "West Pacific Standard Time", "Pacific/Port_Moresby" },
    { "Tonga Standard Time", "Pacific/Tongatapu" },
    { "Fiji Standard Time", "Pacific/Fiji" },
};

const char *
caldav_windows_zone(const char *name)
{
    for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
        if (strcmp(zones[i].windows, name) == 0)
            return zones[i].iana;
    return NULL;
}
