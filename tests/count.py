"""Print pytest's counts from a JUnit XML report as the closing line `N passed, N failed, N skipped`."""
import sys
import xml.etree.ElementTree as ET

suites = ET.parse(sys.argv[1]).getroot()
suites = [suites] if suites.tag == 'testsuite' else list(suites)
total = sum(int(s.get('tests', 0)) for s in suites)
failed = sum(int(s.get('failures', 0)) + int(s.get('errors', 0)) for s in suites)
skipped = sum(int(s.get('skipped', 0)) for s in suites)
print(f'{total - failed - skipped} passed, {failed} failed, {skipped} skipped')
