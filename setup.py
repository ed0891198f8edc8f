"""Install `lmfinding` from the metadata in `settings.ini` (nbdev 2 layout)."""
from configparser import ConfigParser
import setuptools

cfg = ConfigParser(delimiters=['='])
cfg.read('settings.ini', encoding='utf-8')
cfg = cfg['DEFAULT']

licenses = {'apache2': 'Apache-2.0'}
statuses = ['Planning', 'Pre-Alpha', 'Alpha', 'Beta', 'Production/Stable', 'Mature', 'Inactive']
reqs = cfg.get('requirements', '').split()
dev_reqs = cfg.get('dev_requirements', '').split()
hub_reqs = cfg.get('pip_requirements', '').split()
scripts = [s.strip() for s in cfg.get('console_scripts', '').split('\n') if s.strip()]

setuptools.setup(
    name=cfg['lib_name'],
    version=cfg['version'],
    description=cfg['description'],
    license=licenses[cfg['license']],
    classifiers=[f"Development Status :: {cfg['status']} - {statuses[int(cfg['status'])]}",
                 f"Intended Audience :: {cfg['audience']}",
                 f"Natural Language :: {cfg['language']}",
                 'Programming Language :: Python :: 3'],
    url=cfg['git_url'],
    author=cfg['author'],
    author_email=cfg['author_email'],
    keywords=cfg['keywords'].split(),
    packages=setuptools.find_packages(include=['lmfinding', 'lmfinding.*']),
    include_package_data=True,
    install_requires=reqs,
    extras_require={'dev': dev_reqs, 'hub': hub_reqs},
    python_requires='>=' + cfg['min_python'],
    long_description=open('README.md', encoding='utf-8').read() if __import__('os').path.exists('README.md') else '',
    long_description_content_type='text/markdown',
    zip_safe=False,
    entry_points={'console_scripts': scripts, 'nbdev': [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"]},
)
